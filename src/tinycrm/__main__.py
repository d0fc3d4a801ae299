from tinycrm.cli.entry import main

main()
