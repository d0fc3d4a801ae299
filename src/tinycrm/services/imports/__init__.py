"""Bulk imports: one core (`bulk`) and a module per record kind it imports.

- `bulk`: what every import shares: row errors with line and field, the all-or-nothing /
  `skip_bad` / `dry_run` run (`Run`: its transaction, progress, rejects and the one audit
  entry per run), summaries' shown errors, and the store lookups in batches (contacts by
  REF, companies found or created).
- `purchases`: `import_purchases`; `contacts`: `import_contacts`; `records`:
  `import_interactions` and `import_deals`, as `tinycrm export` wrote them; `cases`:
  `import_cases`, service cases with their notes.

Nothing is imported here, so a command loads only the kind it runs.
"""
