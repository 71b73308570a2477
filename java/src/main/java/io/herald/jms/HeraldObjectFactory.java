package io.herald.jms;

import java.util.Hashtable;

import javax.naming.Context;
import javax.naming.Name;
import javax.naming.RefAddr;
import javax.naming.Reference;
import javax.naming.spi.ObjectFactory;

/** Rebuilds Herald destinations and connection factories from their JNDI References. */
public class HeraldObjectFactory implements ObjectFactory {
    @Override
    public Object getObjectInstance(Object obj, Name name, Context ctx, Hashtable<?, ?> env) {
        if (!(obj instanceof Reference)) return null;
        Reference ref = (Reference) obj;
        RefAddr uri = ref.get("uri");
        if (uri != null) return HeraldDestination.parse((String) uri.getContent());
        RefAddr url = ref.get("url");
        if (url != null) return new HeraldConnectionFactory((String) url.getContent());
        return null;
    }
}
