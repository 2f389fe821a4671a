from services.relief.app import main

main()
