from embedsite.cli import main

main()
