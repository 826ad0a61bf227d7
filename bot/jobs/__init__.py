"""City jobs: the city's own job postings, answered from and alerted on.

- `postings`: the typed Posting (title, department, pay, closing date...) and
  when it is open, in the city's time zone.
- `parse`: a feed's bytes into Postings: schema.org JobPosting JSON-LD (a JSON
  document, or a careers page with it embedded, read with extruct) or RSS/Atom
  (feedparser).
- `source`: where the feed is (JOBS_FEED_URL, else the city's file in bot/city/),
  reading it with a timeout, and the last good copy kept in the database.
- `departments`, `kinds`, `queries`: what residents ask for, matched loosely in
  English and Spanish, over the open postings.
- `texts`: the answers, from the gettext catalogs (at most three postings, a
  compact form on SMS).
- `subscriptions`, `alerts`, `schedule`: residents' job alerts and the worker's
  steps that read the feed and tell each matching subscriber of a new posting once.
"""
