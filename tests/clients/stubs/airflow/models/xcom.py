class XCom:
    pass
