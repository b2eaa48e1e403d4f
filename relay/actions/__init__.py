"""Actions: small declared functions that rules call; every outbound write goes through ctx.effect()."""
