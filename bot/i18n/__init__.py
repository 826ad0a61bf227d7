"""Language access: which language a resident reads, and every code-side text in each of the city's languages.

- `languages`: the city's languages as codes ("en", "es"), and reading a language tag or name.
- `messages`: the message catalogs (gettext .po files read with Babel), texts by key, and dates
  and times written the way each language writes them.
- `detection`: offline language identification of one message (lingua, restricted to the city's languages).
- `choice`: the rules that decide a resident's language from what they wrote, what they chose and
  what their channel says, so a short "ok" or an address never flips it.
- `store`: each resident's language, kept for the messages sent outside a conversation.
"""
