"""Relief (困难职工帮扶): cases of members in hardship, verification, disclosure, aid, exit."""
