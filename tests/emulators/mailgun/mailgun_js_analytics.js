// Reads what the sandbox knows through the official mailgun.js client (run by
// test_analytics.py): logs, stats, tags, domains; then resends a stored message.
// Usage: node mailgun_js_analytics.js <sandbox url> <domain> <tag> <storage key>
// Prints one JSON object per line: {"step": ..., "value": ...}.
const FormData = require('form-data');
const Mailgun = require('mailgun.js');

const [url, D, TAG, KEY] = process.argv.slice(2);
const mg = new Mailgun(FormData).client({ username: 'api', key: 'key-js', url });
const out = (step, value) => console.log(JSON.stringify({ step, value }));
console.warn = () => {}; // domainTags.* are deprecated in favour of the v1 tags client

const tagged = { AND: [{ attribute: 'tags', comparator: '=', values: [{ label: TAG, value: TAG }] }] };
const start = new Date(Date.now() - 3600 * 1000);

(async () => {
  const opened = await mg.logs.list({ start, events: ['opened'], filter: tagged, include_totals: true });
  out('logs_opened', {
    count: opened.items.length,
    total: opened.pagination.total,
    all: opened.aggregates.all,
    events: opened.items.map((i) => i.event),
    domains: opened.items.map((i) => i.domain.name),
    timestamps_are_dates: opened.items.every((i) => i['@timestamp'] instanceof Date && !isNaN(i['@timestamp'])),
    start_is_date: opened.start instanceof Date && !isNaN(opened.start),
  });
  // two at a time, following the pages
  let page = await mg.logs.list({ start, events: ['accepted'], filter: tagged, pagination: { limit: 2 } });
  const accepted = [...page.items];
  while (page.pagination.next) {
    page = await mg.logs.list({
      start, events: ['accepted'], filter: tagged, pagination: { limit: 2, token: page.pagination.next },
    });
    accepted.push(...page.items);
  }
  out('logs_accepted', accepted.map((i) => i.recipient));

  const stats = await mg.stats.getDomain(D, { event: ['accepted', 'delivered', 'opened'], duration: '1d' });
  const sum = (key) => stats.stats.reduce((n, s) => n + s[key].total, 0);
  out('stats', { accepted: sum('accepted'), delivered: sum('delivered'), opened: sum('opened'), resolution: stats.resolution });

  const tags = await mg.domains.domainTags.list(D, { limit: 10 });
  out('tags', tags.items.map((t) => ({ tag: t.tag, seen: t['first-seen'] instanceof Date && !isNaN(t['first-seen']) })));
  const tagStats = await mg.domains.domainTags.statistic(D, TAG, { event: 'opened', duration: '1d' });
  out('tag_stats', { tag: tagStats.tag, opened: tagStats.stats.reduce((n, s) => n + s.opened.total, 0) });

  const domains = await mg.domains.list();
  out('domains', domains.map((d) => ({ name: d.name, state: d.state })));
  const domain = await mg.domains.get(D);
  out('domain', { name: domain.name, sending: (domain.sending_dns_records || []).length });

  out('resend', await mg.messages.resendEmail(D, KEY, 'again@example.com'));
})().catch((error) => { console.error(error); process.exit(1); });
