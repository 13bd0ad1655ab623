from zsticket.cli import main

main()
