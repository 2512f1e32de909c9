"""Library commands: `fn(env, ...) -> Dto`; they never print and raise CommandError."""
