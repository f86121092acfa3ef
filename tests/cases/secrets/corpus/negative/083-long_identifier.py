class AbstractSingletonProxyFactoryBeanTokenResolver:
    pass
