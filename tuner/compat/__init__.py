"""Every private name of a library the project touches, one module per library, each with why."""
