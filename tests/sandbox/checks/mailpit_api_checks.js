// The mailpit-api npm client's check methods against a running sandbox.
// Usage: node mailpit_api_checks.js BASE_URL MESSAGE_ID  -> one JSON object on stdout.
const { MailpitClient } = require("mailpit-api");

const [base, id] = process.argv.slice(2);

(async () => {
  const mailpit = new MailpitClient(base);
  const out = {};
  out.config = await mailpit.getConfiguration();
  out.html = await mailpit.htmlCheck(id);
  out.htmlLatest = await mailpit.htmlCheck();
  out.links = await mailpit.linkCheck(id, false);
  out.linksFollowed = await mailpit.linkCheck(id, true);
  out.spam = await mailpit.spamAssassinCheck(id);
  console.log(JSON.stringify(out));
})().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
