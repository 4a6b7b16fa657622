"""`pynn summary MODEL`: a saved model's layers, parameters and training memory."""

import pynn
from pynn.cli.predict import load_model


def _optimizer(args):
    """The optimizer whose state the memory estimate counts."""
    if args.optimizer == "sgd":
        return pynn.SGD(momentum=args.momentum)
    return pynn.AdamW() if args.optimizer == "adamw" else pynn.Adam()


def run(args):
    model = load_model(args.model)
    print(
        model.summary(batch_size=args.batch_size, optimizer=_optimizer(args), memory=args.memory)
    )
    if model.classes_ is not None:
        classes = [str(c) for c in model.classes_[:20]]
        more = f" ... ({len(model.classes_)} in all)" if len(model.classes_) > 20 else ""
        print(f"classes: {', '.join(classes)}{more}")
    return 0
