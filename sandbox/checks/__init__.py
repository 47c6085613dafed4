"""Message checks: what a message will look like and how it will be received.

- :mod:`.htmlcheck`: HTML/CSS features scored per email client (caniemail data), Mailpit's
  ``html-check``.
- :mod:`.linkcheck`: the HTTP status of every link and image, Mailpit's ``link-check``.
- :mod:`.spamassassin`: a spamd ``REPORT``, Mailpit's ``sa-check``.
- :mod:`.lint`: deliverability findings (what mailbox providers require or penalise).

Each check is a pure function of the message (plus, for links and spam, the network it is
allowed to reach); the REST routes live in :mod:`mailsandbox.api.checks`.
"""
