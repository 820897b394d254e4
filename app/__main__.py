from app.cli.launch import main

main()
