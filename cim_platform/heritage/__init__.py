"""Historic buildings (issue 10): declaration records, groups, reviewed edits and protection checks."""
