"""Feed fetching (httpx, conditional GET, SSRF checks, limits) and parsing (feedparser) into Entries."""
