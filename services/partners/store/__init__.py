"""Partners service (会员普惠): partner merchants and their discount offers."""
