// Drives the sandbox with the AWS SDK for JavaScript v3 (run by test_aws_sdk_js.py).
// Usage: node aws_sdk_js_client.js <sandbox url> ; prints one JSON object per line.
const { SESv2Client, SendEmailCommand, CreateEmailTemplateCommand, GetEmailTemplateCommand } =
  require('@aws-sdk/client-sesv2');
const { SESClient, SendRawEmailCommand } = require('@aws-sdk/client-ses');
const { SNSClient, CreateTopicCommand, ListTopicsCommand } = require('@aws-sdk/client-sns');

const config = {
  endpoint: process.argv[2],
  region: 'us-west-2',
  credentials: { accessKeyId: 'AKIAJSCLIENT', secretAccessKey: 'not-checked' },
};
const out = (step, value) => console.log(JSON.stringify({ step, value }));

(async () => {
  const v2 = new SESv2Client(config);
  const sent = await v2.send(new SendEmailCommand({
    FromEmailAddress: 'Node <node@example.com>',
    Destination: { ToAddresses: ['ann@example.com'] },
    Content: {
      Simple: {
        Subject: { Data: 'From the JS SDK' },
        Body: { Text: { Data: 'hello from node' }, Html: { Data: '<p>hello</p>' } },
        Attachments: [{ FileName: 'a.bin', RawContent: Uint8Array.from([0, 1, 2, 255]) }],
      },
    },
    EmailTags: [{ Name: 'sdk', Value: 'js' }],
  }));
  out('send', sent.MessageId);
  await v2.send(new CreateEmailTemplateCommand({
    TemplateName: 'js', TemplateContent: { Subject: 'S {{x}}', Text: 'T' },
  }));
  out('template', (await v2.send(new GetEmailTemplateCommand({ TemplateName: 'js' })))
    .TemplateContent.Subject);
  try {
    await v2.send(new GetEmailTemplateCommand({ TemplateName: 'ghost' }));
    out('missing', 'no error');
  } catch (err) {
    out('missing', { name: err.name, status: err.$metadata.httpStatusCode, message: err.message });
  }
  try {
    await v2.send(new SendEmailCommand({
      FromEmailAddress: 'node@unverified.invalid',
      Destination: { ToAddresses: ['ann@example.com'] },
      Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } },
    }));
    out('rejected', 'no error');
  } catch (err) {
    out('rejected', { name: err.name, status: err.$metadata.httpStatusCode });
  }
  const v1 = new SESClient(config);
  const raw = 'From: node@example.com\r\nTo: bob@example.com\r\nSubject: raw from node\r\n\r\nbody\r\n';
  const rawSent = await v1.send(new SendRawEmailCommand({ RawMessage: { Data: Buffer.from(raw) } }));
  out('raw', rawSent.MessageId);
  const sns = new SNSClient(config);
  const topic = await sns.send(new CreateTopicCommand({ Name: 'js-topic' }));
  out('topic', topic.TopicArn);
  out('topics', (await sns.send(new ListTopicsCommand({}))).Topics.map((t) => t.TopicArn));
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
