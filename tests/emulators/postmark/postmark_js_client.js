// Drives the sandbox with Postmark's Node.js client (run by test_postmark_js.py).
// Usage: node postmark_js_client.js <host:port> ; prints one JSON object per line.
const postmark = require('postmark');

const out = (step, value) => console.log(JSON.stringify({ step, value }));
const client = new postmark.ServerClient('node-token', {
  useHttps: false,
  requestHost: process.argv[2],
});

(async () => {
  const sent = await client.sendEmail({
    From: 'Node <node@example.com>',
    To: 'ann@example.com',
    Subject: 'From postmark.js',
    TextBody: 'hello from node',
    Tag: 'js',
    Metadata: { client: 'node' },
    Attachments: [{ Name: 'a.dat', Content: Buffer.from([0, 1, 2, 255]).toString('base64'),
      ContentType: 'application/octet-stream', ContentID: null }],
  });
  out('send', sent);
  const batch = await client.sendEmailBatch([
    { From: 'node@example.com', To: 'bob@example.com', Subject: 'B1', TextBody: 'one' },
    { From: 'node@example.com', To: 'carol@example.com', Subject: 'B2', HtmlBody: '<p>two</p>' },
  ]);
  out('batch', batch.map((r) => r.ErrorCode));
  await client.createTemplate({ Name: 'T', Alias: 'js-t', Subject: 'Hi {{n}}', TextBody: '{{n}}' });
  const templated = await client.sendEmailWithTemplate({
    TemplateAlias: 'js-t', TemplateModel: { n: 'Node' }, From: 'node@example.com', To: 'dan@example.com',
  });
  out('templated', templated.ErrorCode);
  const hook = await client.createWebhook({
    Url: 'http://127.0.0.1:9/hook', MessageStream: 'outbound',
    Triggers: { Delivery: { Enabled: true }, Bounce: { Enabled: true, IncludeContent: true } },
  });
  out('webhook', hook);
  out('webhooks', (await client.getWebhooks()).Webhooks.map((w) => w.ID));
  out('streams', (await client.getMessageStreams()).MessageStreams.map((s) => s.ID));
  const created = await client.createSuppressions('outbound', {
    Suppressions: [{ EmailAddress: 'blocked@example.com' }],
  });
  out('suppressed', created.Suppressions[0].Status);
  out('dump', (await client.getSuppressions('outbound')).Suppressions.map((s) => s.EmailAddress));
  try {
    await client.sendEmail({ From: 'node@example.com', To: 'blocked@example.com', Subject: 'x', TextBody: 'y' });
  } catch (error) {
    out('inactive', { name: error.name, code: error.code, recipients: error.recipients });
  }
  const removed = await client.deleteSuppressions('outbound', {
    Suppressions: [{ EmailAddress: 'blocked@example.com' }],
  });
  out('deleted', removed.Suppressions[0].Status);
  const found = await client.getOutboundMessages({ count: 10, offset: 0, tag: 'js' });
  out('outbound', found.Messages.map((m) => m.MessageID));
  out('details', (await client.getOutboundMessageDetails(sent.MessageID)).Subject);
  out('bounces', (await client.getBounces({ count: 10, offset: 0 })).TotalCount);
  try {
    await client.sendEmail({ From: 'node@example.com', To: 'nobody', Subject: 'x', TextBody: 'y' });
    out('invalid', 'accepted');
  } catch (error) {
    out('invalid', { name: error.name, code: error.code, status: error.statusCode });
  }
  try {
    await new postmark.ServerClient('wrong-token', { useHttps: false, requestHost: process.argv[2] })
      .sendEmail({ From: 'node@example.com', To: 'a@example.com', Subject: 'x', TextBody: 'y' });
  } catch (error) {
    out('token', { name: error.name, code: error.code, status: error.statusCode });
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
