"""BIM review for design institutes: IDS checks, BCF topics, model differences (issue 16)."""
