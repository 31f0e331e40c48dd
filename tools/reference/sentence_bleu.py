#!/usr/bin/env python3
"""Golden sentence BLEU (sacreBLEU's sentence_bleu: exp smoothing, effective order) next to corpus
BLEU of the same segment, from sacreBLEU's own source.

sacreBLEU is not packaged in Debian: bring its source with the library's `fetch github:mjpost/sacrebleu`
(the goldens were made at commit f615c7286d4d813370efb824d94fc2bfcd3a6b94, after v2.6.0), then

    apt-get install python3-portalocker python3-regex python3-tabulate python3-colorama python3-lxml
    mkdir -p /tmp/sb && git -C /work/.mirror/mjpost+sacrebleu/repo archive HEAD sacrebleu | tar -x -C /tmp/sb
    echo '__version__ = "2.6.0+f615c72"' > /tmp/sb/sacrebleu/version.py
    PYTHONPATH=/tmp/sb /usr/bin/python3 tools/reference/sentence_bleu.py > llm-core/src/test/resources/reference/sentence-bleu.json
"""
import json

import sacrebleu

CASES = [
    ("The cat", ["The cat sat"]),
    ("4", ["4"]),
    ("Paris", ["Paris is the capital."]),
    ("yes", ["no"]),
    ("", ["anything"]),
    ("the cat sat on the mat", ["the cat is on the mat"]),
    ("the cat sat on the mat", ["the cat is on the mat", "there is a cat on the mat"]),
    ("It is a guide to action which ensures that the military always obeys the commands of the party.",
     ["It is a guide to action that ensures that the military will forever heed Party commands.",
      "It is the guiding principle which guarantees the military forces always being under the command of the Party."]),
    ("Hello, world! 3.14 and 1,000-2", ["Hello world! 3.14 and 1,000 - 2"]),
    ("a b c d e", ["a b c d e"]),
    ("a b", ["b a"]),
    ("Größe 東京", ["Größe 東京 ok"]),
]


def main():
    out = []
    for hypothesis, references in CASES:
        sentence = sacrebleu.sentence_bleu(hypothesis, references)
        corpus = sacrebleu.corpus_bleu([hypothesis], [[r] for r in references])
        out.append({"hypothesis": hypothesis, "references": references,
                    "sentence_bleu": sentence.score, "corpus_bleu": corpus.score})
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
