// Drives the sandbox with the official mailgun.js client (run by test_mailgun_js.py).
// Usage: node mailgun_js_client.js <sandbox url> send|inspect ; prints one JSON object per line.
// "send" sends; the test waits until the engine has delivered it, then runs "inspect".
const FormData = require('form-data');
const Mailgun = require('mailgun.js');

const mg = new Mailgun(FormData).client({ username: 'api', key: 'key-js', url: process.argv[2] });
const D = 'mg.example.com';
const out = (step, value) => console.log(JSON.stringify({ step, value }));
console.warn = () => {}; // events.get is deprecated in favour of logs.list

async function send() {
  out('send', await mg.messages.create(D, {
    from: 'Node <node@mg.example.com>', to: ['a@example.com', 'b@example.com'],
    subject: 'From node', text: 'hello', html: '<p>hello <img src="cid:logo.png"></p>',
    'o:tag': ['js'], 'v:lang': 'js',
    attachment: [{ filename: 'x.bin', data: Buffer.from([0, 1, 2, 255, 13, 10]) }],
    inline: [{ filename: 'logo.png', data: Buffer.from([137, 80, 78, 71, 0, 255]) }],
  }));
}

async function inspect() {
  let page = await mg.events.get(D, { limit: 1 });
  const events = [...page.items];
  while (page.items.length && events.length < 100) {
    page = await mg.events.get(D, { page: page.pages.next.page });
    events.push(...page.items);
  }
  out('events', events.map((e) => `${e.event}:${e.recipient}`));
  out('created', await mg.webhooks.create(D, 'delivered', 'https://hooks.example.com/d'));
  out('updated', await mg.webhooks.update(D, 'delivered', ['https://hooks.example.com/e']));
  out('list', await mg.webhooks.list(D));
  out('destroyed', await mg.webhooks.destroy(D, 'delivered'));
  out('suppressed', await mg.suppressions.create(D, 'bounces', [{ address: 'x@example.com' }]));
  out('bounces', (await mg.suppressions.list(D, 'bounces')).items.map((b) => b.address));
}

(process.argv[3] === 'send' ? send : inspect)().catch((error) => {
  console.error(error);
  process.exit(1);
});
