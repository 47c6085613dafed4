// nodemailer's default SMTP transport: createTransport({host, port}) and nothing else, as the
// README shows. An optional CA file is trusted (tls.ca), so STARTTLS is verified against it.
// Usage: node client_nodemailer.js HOST PORT [CA_FILE]
const fs = require("fs");
const nodemailer = require("nodemailer");

const [host, port, ca] = process.argv.slice(2);
const options = { host, port: Number(port) };
if (ca) options.tls = { ca: fs.readFileSync(ca) };

nodemailer
  .createTransport(options)
  .sendMail({
    from: "app@example.com",
    to: "user@example.com",
    subject: "sent by nodemailer",
    text: "Hello from nodemailer.",
  })
  .then((info) => console.log(info.response))
  .catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
