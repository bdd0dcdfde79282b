"""Rules of the coarse filter, one concern per module: `chars` (character classes of a batch), `document`
(length, script ratios, line shape, URL density), `repetition` (Gopher-style, on characters), `lines`
(line-level cleaning), `lexicon` (Aho–Corasick hits per category), `urls` (domain blocklist, URL
patterns), `pii` (masking to typed placeholders)."""
