from sagespec.cli import main

main()
