"""ESP emulators: one subpackage per provider (SendGrid, Mailgun), each installed into the app."""
