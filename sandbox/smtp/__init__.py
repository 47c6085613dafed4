"""The catching SMTP server (aiosmtpd on the app's own event loop)."""
