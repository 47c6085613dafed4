// Drives the sandbox with Resend's Node.js SDK (run by test_resend_js.py).
// Usage: node resend_js_client.js <sandbox url> ; prints one JSON object per line.
const { Resend } = require('resend');

const out = (step, value) => console.log(JSON.stringify({ step, value }));
const resend = new Resend('re_node_key', { baseUrl: process.argv[2] });

(async () => {
  const email = {
    from: 'Node <node@example.com>',
    to: ['ann@example.com'],
    subject: 'From resend-node',
    html: '<p>hello from node</p>',
    tags: [{ name: 'sdk', value: 'node' }],
    attachments: [{ filename: 'a.dat', content: Buffer.from([0, 1, 2, 255]) }],
  };
  const sent = await resend.emails.send(email, { idempotencyKey: 'node-1' });
  out('send', sent);
  const replay = await resend.emails.send(email, { idempotencyKey: 'node-1' });
  out('replay', replay.data);
  const batch = await resend.batch.send([
    { from: 'node@example.com', to: ['b@example.com'], subject: 'B1', text: 'one' },
    { from: 'node@example.com', to: ['c@example.com'], subject: 'B2', text: 'two' },
  ]);
  out('batch', batch.data.data.length);
  out('get', (await resend.emails.get(sent.data.id)).data.subject);
  const later = await resend.emails.send({
    from: 'node@example.com', to: ['d@example.com'], subject: 'Later', text: 'x',
    scheduledAt: 'in 1 hour',
  });
  out('updated', (await resend.emails.update({ id: later.data.id, scheduledAt: 'in 2 hours' })).data);
  out('cancelled', (await resend.emails.cancel(later.data.id)).data);
  out('domains', (await resend.domains.list()).data.data.map((d) => d.name));
  out('keys', (await resend.apiKeys.list()).data.data.length);
  const hook = await resend.webhooks.create({ endpoint: 'http://127.0.0.1:9/h', events: ['email.sent'] });
  out('webhook', hook.data.signing_secret.slice(0, 6));
  out('invalid', (await resend.emails.send({ from: 'node@example.com', to: ['x'], subject: 's', text: 't' })).error);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
