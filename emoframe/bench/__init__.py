"""Running many pipelines: the fold loop (``evaluate``), fold tasks and their share groups (``tasks``), a run's
ASR and perturbed inputs (``inputs``), the executors (``executors``), the resumable runner (``runner``) and its
progress events (``events``). Grid expansion with unimodal baselines is the spec's (``emoframe.spec.grid``)."""
