"""`python -m services.reports` serves the reports API; `... rebuild` replays every source topic
into a new read-model generation and swaps it in while the service keeps running."""

import sys

if len(sys.argv) > 1 and sys.argv[1] == "rebuild":
    from services.reports.rebuild import main as rebuild

    rebuild()
else:
    from services.reports.app import main

    main()
