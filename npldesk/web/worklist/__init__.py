"""The person's home: their worklist, ordered by what needs doing."""
