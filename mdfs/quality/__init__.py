"""Quality classification tooling shared by the `quality` stage and the `mdfs quality` commands.

- `tokens`: how a document becomes fastText input (`chars` or `jieba`, on a bounded prefix).
- `model`: a fastText model plus its JSON sidecar (tokenizer, preparation, labels), loaded and checked
  together, so the stage always scores with the tokenizer the model was trained with.
- `data`: labelled inputs read with mdfs's own readers, prepared as the collection stage would.
- `metrics`: precision, recall, F1, ROC AUC and deciles, in numpy.
- `train`: hyper-parameters (YAML, pydantic), the held-out split, training and quantisation.
- `commands`: the `mdfs quality train | eval | score` command line.
"""
