from socialens.cli import main

main()
