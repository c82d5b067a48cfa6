from tenantry.cli.main import app

app()
