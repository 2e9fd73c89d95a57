#!/usr/bin/env python3
"""bench/accuracy/heldout_batches.py [CHATPIPE] [LANG:BATCH,...]: the learned label on unseen batches.

For each LANG:BATCH (default en:3,en:4,en:5,en:6) it copies analysis/data with that batch left out of
eval/dev_LANG.tsv (batches are marked by "# batch N" comment lines), runs `CHATPIPE tag --data COPY` on the
batch's texts, so the learned label is trained without them, and prints the batch's sentiment macro-F1,
then the mean. A check of the tagger on messages it never trained on that reads no holdout (bench/README.md,
"accuracy": how taggers 9 to 11 were chosen). Plain python3; CHATPIPE defaults to build/chatpipe.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, 'analysis', 'data')
CLASSES = ('positive', 'negative', 'neutral')


def macro_f1(truth, said):
    total = 0.0
    for k in CLASSES:
        tp = sum(t == k and s == k for t, s in zip(truth, said))
        fp = sum(t != k and s == k for t, s in zip(truth, said))
        fn = sum(t == k and s != k for t, s in zip(truth, said))
        total += 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return total / len(CLASSES)


def split(lang, batch):
    """The dev file's lines without the batch, and the batch's [sentiment, text] rows."""
    kept, held, current = [], [], '1'
    with open(os.path.join(DATA, 'eval', f'dev_{lang}.tsv'), encoding='utf-8') as f:
        for line in f.read().split('\n'):
            marker = re.match(r'# batch (\d+)', line)
            if marker:
                current = marker.group(1)
            if line.startswith('#') or not line.strip():
                kept.append(line)
            elif current == batch:
                fields = line.split('\t', 3)
                held.append((fields[1], fields[3]))
            else:
                kept.append(line)
    return kept, held


def score(chatpipe, lang, batch):
    kept, held = split(lang, batch)
    if not held:
        sys.exit(f'{lang}: no batch {batch} in dev_{lang}.tsv')
    copy = tempfile.mkdtemp(prefix='chatpipe-heldout-')
    try:
        for name in os.listdir(DATA):
            if name != 'eval':
                os.symlink(os.path.join(DATA, name), os.path.join(copy, name))
        os.mkdir(os.path.join(copy, 'eval'))
        for name in os.listdir(os.path.join(DATA, 'eval')):
            if name != f'dev_{lang}.tsv':
                os.symlink(os.path.join(DATA, 'eval', name), os.path.join(copy, 'eval', name))
        with open(os.path.join(copy, 'eval', f'dev_{lang}.tsv'), 'w', encoding='utf-8') as f:
            f.write('\n'.join(kept))
        texts = ''.join(text + '\n' for _, text in held).encode()
        env = dict(os.environ, CHATPIPE_TAG_CACHE='off')  # a model trained on this copy, never cached
        out = subprocess.run([chatpipe, 'tag', '--data', copy], input=texts, capture_output=True, env=env, check=True)
        said = [json.loads(line)['sentiment']['label'] for line in out.stdout.decode().splitlines()]
        return len(held), macro_f1([s for s, _ in held], said)
    finally:
        shutil.rmtree(copy)


def main():
    chatpipe = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, 'build', 'chatpipe')
    which = sys.argv[2] if len(sys.argv) > 2 else 'en:3,en:4,en:5,en:6'
    figures = []
    for item in which.split(','):
        lang, batch = item.split(':')
        n, f1 = score(chatpipe, lang, batch)
        figures.append(f1)
        print(f'{lang} batch {batch} ({n} messages): sentiment macro-F1 {f1:.3f}', flush=True)
    print(f'mean {sum(figures) / len(figures):.3f}')


if __name__ == '__main__':
    main()
