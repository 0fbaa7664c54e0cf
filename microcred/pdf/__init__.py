"""The PDF of a credential: rendering, embedded signed credential (issue 23)."""
