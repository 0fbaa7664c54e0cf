"""What the gateway plugs into the verification ports: status lists (cache, then HTTP) and the wallet's shares."""
