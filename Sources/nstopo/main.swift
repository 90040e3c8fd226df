import NSTopoCLI

NSTopo.start()
