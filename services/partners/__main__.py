from services.partners.app import main

main()
