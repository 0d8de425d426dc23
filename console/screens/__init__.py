"""The console's screens, one module each; ``console.modes`` says which key shows which."""
