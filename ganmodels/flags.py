"""How an option's field name is spelled on the command line: `latent_dim` is `--latent-dim`.

Every message that names an option spells it through `flag`, from GanConfig's checks (which carry the
options' names) up to the CLI's and the flow's one-line errors.
"""


def flag(name: str) -> str:
    """`latent_dim` -> `--latent-dim`."""
    return "--" + name.replace("_", "-")
