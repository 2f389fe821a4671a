"""`python -m services.projector` serves the card API; `... rebuild` replays every event."""

import sys

if len(sys.argv) > 1 and sys.argv[1] == "rebuild":
    from services.projector.rebuild import main as rebuild

    rebuild()
else:
    from services.projector.app import main

    main()
