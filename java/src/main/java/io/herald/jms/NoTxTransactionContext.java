package io.herald.jms;

import javax.jms.IllegalStateException;
import javax.jms.JMSException;

/**
 * A session in an acknowledge mode (AUTO, CLIENT, DUPS_OK): each send stands on its own,
 * commit() and rollback() are refused with IllegalStateException, and recover() redelivers
 * what the session received and has not acknowledged. Closing leaves nothing to roll back:
 * releasing the handle returns unacknowledged messages.
 */
final class NoTxTransactionContext implements TransactionContext {
    private final NativeResource session;

    NoTxTransactionContext(NativeResource session) {
        this.session = session;
    }

    @Override public boolean isTransacted() {
        return false;
    }

    @Override public void onWork() {
    }

    @Override public void commit() throws JMSException {
        throw new IllegalStateException("commit() needs a transacted session");
    }

    @Override public void rollback() throws JMSException {
        throw new IllegalStateException("rollback() needs a transacted session");
    }

    @Override public void recover() throws JMSException {
        session.run(Provider::recover);
    }

    @Override public void close() {
    }
}
