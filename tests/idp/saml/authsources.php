<?php
// Test users with eduPerson attributes, read from users.json (rewritten by tests between
// sign-ins). core:AttributeMap name2oid in the hosted IdP turns the names into urn:oid form.
$users = json_decode(file_get_contents(getenv('TEST_IDP_RUN_DIR') . '/users.json'), true);
$userpass = ['exampleauth:UserPass'];
foreach ($users as $login => $user) {
    $userpass[$login . ':' . $user['password']] = $user['attributes'];
}
$config = [
    'admin' => ['core:AdminPassword'],
    'example-userpass' => $userpass,
];
