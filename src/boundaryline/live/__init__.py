"""The mail path, live: a mailbox watched over IMAP, and a filter a delivery agent runs on each message.

    model.py   the one function that loads the model for this path, and the model in service kept current
    imap.py    the account (``imaps://user@host/INBOX``), the connection (TLS), folders, keywords, the place file
    watch.py   the loop: new messages scored with their senders' history, marked with keywords, moved or copied;
               corrections read back from the ``Boundaryline/…`` folders into the feedback store
    filter.py  one RFC 822 message in, the same bytes out with ``X-Boundaryline-*`` headers added at the top

Message text never leaves the process: logs and reports carry UIDs, counts and labels only.
"""
