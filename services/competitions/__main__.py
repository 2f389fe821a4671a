from services.competitions.app import main

main()
