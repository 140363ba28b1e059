package sqlfuncs

import (
	"github.com/dolthub/go-mysql-server/sql"
)

// batchNode sits between a node that calls generate() and that node's
// child. It exists only in the executable tree the batching hook builds.
type batchNode struct {
	child   sql.Node
	memo    *memo
	exprs   []sql.Expression // the parent's expressions, bound to memo
	tracker *Tracker
	rowCap  int // a LIMIT above allows no more rows than this; 0 = none
	// hasBelow: nodes further down are bound to the same memo, so rows
	// arriving here may be made from rows whose calls ran already.
	hasBelow bool

	iter *batchIter // the iterator built last, for linkIter
}

var _ sql.ExecBuilderNode = (*batchNode)(nil)

func (n *batchNode) Resolved() bool                     { return n.child.Resolved() }
func (n *batchNode) String() string                     { return "GenerateBatch(" + n.child.String() + ")" }
func (n *batchNode) Schema(ctx *sql.Context) sql.Schema { return n.child.Schema(ctx) }
func (n *batchNode) Children() []sql.Node               { return []sql.Node{n.child} }
func (n *batchNode) IsReadOnly() bool                   { return n.child.IsReadOnly() }

func (n *batchNode) WithChildren(ctx *sql.Context, children ...sql.Node) (sql.Node, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(n, len(children), 1)
	}
	c := *n
	c.child = children[0]
	return &c, nil
}

// BuildRowIter implements sql.ExecBuilderNode.
func (n *batchNode) BuildRowIter(ctx *sql.Context, b sql.NodeExecBuilder, row sql.Row) (sql.RowIter, error) {
	child, err := b.Build(ctx, n.child, row)
	if err != nil {
		return nil, err
	}
	n.iter = newBatchIter(ctx, n, child)
	return n.iter, nil
}

// linkIter follows a projection built over a batchNode. The projection
// makes a new row from each row it reads; linking the new row to the old
// row's answers lets a node further up that evaluates the same call again
// (go-mysql-server re-evaluates `generate(...) AS g` above an ORDER BY g)
// find the answer instead of generating anew.
type linkIter struct {
	sql.RowIter
	bn      *batchNode
	lastRow sql.Row
	lastSet *rowSet
}

func (l *linkIter) Next(ctx *sql.Context) (sql.Row, error) {
	m := l.bn.memo
	if l.lastSet != nil {
		m.evict(l.lastRow, l.lastSet)
		l.lastRow, l.lastSet = nil, nil
	}
	row, err := l.RowIter.Next(ctx)
	if err != nil {
		return nil, err
	}
	if it := l.bn.iter; it != nil && it.lastSet != nil && len(row) > 0 {
		l.lastRow, l.lastSet = row, m.install(row, it.lastSet)
	}
	return row, nil
}
