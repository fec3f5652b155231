"""A SHACL engine for pyoxigraph stores that checks each shape a set of nodes at a time.

>>> import pyoxigraph as ox
>>> from rdflib import Graph
>>> shapes = Graph().parse(format="turtle", data='''
... @prefix sh: <http://www.w3.org/ns/shacl#> .
... <http://e/NamedShape> sh:targetClass <http://e/Thing> ;
...     sh:property [ sh:path <http://e/name> ; sh:minCount 1 ] .''')
>>> store = ox.Store()
>>> store.add(ox.Quad(ox.NamedNode("http://e/x"),
...     ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode("http://e/Thing")))
>>> [(str(r.focus), str(r.component)) for r in Engine(store, ShapesGraph(shapes)).validate()]
[('http://e/x', 'http://www.w3.org/ns/shacl#MinCountConstraintComponent')]
"""

from santecyber.shacl.engine import BOUND_NODES, Engine, Result, report_graph, to_oxigraph
from santecyber.shacl.shapes import ShapesGraph, Unsupported

__all__ = [
    "BOUND_NODES",
    "Engine",
    "Result",
    "ShapesGraph",
    "Unsupported",
    "report_graph",
    "to_oxigraph",
]
