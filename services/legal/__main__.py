from services.legal.app import main

main()
