"""`python -m services.projector` serves the card API; `... rebuild` replays every event into a
new read-model generation and swaps it in while the projector keeps running."""

import sys

if len(sys.argv) > 1 and sys.argv[1] == "rebuild":
    from services.projector.rebuild import main as rebuild

    rebuild()
else:
    from services.projector.app import main

    main()
