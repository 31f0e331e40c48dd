#!/usr/bin/env python3
"""Golden Porter stems from NLTK (the stemmer rouge-score uses with use_stemmer=True), for
TuneForge's Rouge.

Words: every 13th entry of Debian's American English word list (package wamerican), lowercased,
letters only, plus inflected forms that exercise every step. Needs python3-nltk from Debian:

    /usr/bin/python3 tools/reference/porter_reference.py > llm-core/src/test/resources/reference/porter.tsv
"""
import re

from nltk.stem.porter import PorterStemmer

EXTRA = """
caresses ponies ties cats feed agreed plastered bled motoring sing conflated troubled sized hopping
tanned falling hissing fizzed failing filing happy sky relational conditional rational valenci
hesitanci digitizer conformabli radicalli differentli vileli analogousli vietnamization predication
operator feudalism decisiveness hopefulness callousness formaliti sensitiviti sensibiliti triplicate
formative formalize electriciti electrical hopeful goodness revival allowance inference airliner
gyroscopic adjustable defensible irritant replacement adjustment dependent adoption homologou
communism activate angulariti homologous effective bowdlerize probate rate cease controll roll
dying lying tying news innings outings cannings howe proceed exceed succeed spied tried flies
enjoy enjoyment generously running logically biology apology fully carefully generalization
""".split()

words = set(EXTRA)
with open("/usr/share/dict/american-english", encoding="utf-8") as f:
    for i, line in enumerate(f):
        word = line.strip().lower()
        if i % 13 == 0 and re.fullmatch(r"[a-z]+", word):
            words.add(word)

stemmer = PorterStemmer()
for word in sorted(words):
    print(f"{word}\t{stemmer.stem(word)}")
